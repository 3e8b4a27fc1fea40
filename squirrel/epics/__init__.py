"""Channel Access: aioca calls, the monitor, the PV cache, the circuit breaker, the simulator."""
