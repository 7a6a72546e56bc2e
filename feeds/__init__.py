"""The feeds pipeline: fetch, parse, normalise, filter, ledger, deliver."""
