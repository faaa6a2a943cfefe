"""The web view of `butido serve` (docs/web.md): pages, JSON and live logs over the database."""
