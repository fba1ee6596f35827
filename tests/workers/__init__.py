"""Tests of the background work: broker, actors, outbox relay, scheduler."""
