"""PostgreSQL access: pool, named queries, migrations, embedded server, one repository per aggregate."""
