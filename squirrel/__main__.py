from squirrel.cli.main import main

raise SystemExit(main())
