"""Files people attach (homework, R-JRN-1): S3-compatible object storage and the rules for uploads."""
