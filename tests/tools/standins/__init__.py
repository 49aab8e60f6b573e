"""Tests of the random-weight model stand-ins."""
