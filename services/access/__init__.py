"""Parent access as a service (R-DRY-4) and consent to personal-data processing with erasure (R-SEC-5)."""
