"""How a run lives: its memory limit, its processes (they die together), its progress bars."""
