"""Idempotency-Key for every action (workflow actions, photo uploads): the first answer kept."""
