"""Notifications of marks and attendance to parents (R-COM-2): their settings, the in-app inbox, the mail queue."""
