"""Rules on what step processes on workers (containers, remote hosts) can see of the host."""
