"""Loopback fakes of the platforms the bot talks to."""
