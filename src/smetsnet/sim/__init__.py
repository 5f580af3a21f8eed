"""The network at work (issue 6): a world of users and premises run for simulated days through
the real DUIS → hub → WAN → devices → hub → users path, and its traffic report."""
