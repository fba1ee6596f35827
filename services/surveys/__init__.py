"""Опросы (R-COM-3): surveys aimed at roles and classes, one answer per person, results with charts."""
