"""The command line: typed errors become one line on stderr and exit code 2 here, nowhere else."""
