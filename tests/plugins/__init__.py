"""pytest plugins: the fixtures more than one test package uses, registered in tests/conftest.py."""
