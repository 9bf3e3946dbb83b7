"""What every page shares: session cookie, CSRF tokens, sign-in, templates, error pages and
security headers."""
