"""Persistence: one aiosqlite database, versioned migrations, one repository per concern."""
