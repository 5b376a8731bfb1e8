"""Helpers of the fault suite (tests/test_faults_*.py): scale, a killable loader, ground truth."""
