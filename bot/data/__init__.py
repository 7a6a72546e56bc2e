"""Files shipped inside the package so `sendbot init` works from an installed wheel: copies of
the repository's config.example.toml and slack-manifest.json (a test keeps them identical)."""
