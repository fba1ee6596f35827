"""Школьная почта (R-COM-1): threads between people of one school, attachments, read marks, announcements."""
