"""The diary of students and parents (R-DRY-1…3): a week of lessons with the journal's entries, the subjects of a
period with the forecast mark, and the live refresh of an open diary. Read-only: the journal writes, the diary
reads the same rows, uncached."""
