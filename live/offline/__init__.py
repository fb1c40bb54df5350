"""Working on whole files: analysis you can see (and, later, rendering)."""
