"""Local emulators of the source APIs, served over real HTTP for the demo and the tests."""
