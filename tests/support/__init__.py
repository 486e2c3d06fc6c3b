"""Helpers the test tiers share: the `dunning` command in-process, and driving an installation like a user."""
