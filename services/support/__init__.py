"""Support requests and password-recovery requests as the school administrator's queue (R-COM-4)."""
