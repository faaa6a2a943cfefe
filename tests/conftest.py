"""The shared fixtures are pytest plugins in tests/plugins/; test packages keep only their own."""

pytest_plugins = ("tests.plugins.services", "tests.plugins.workspaces")
