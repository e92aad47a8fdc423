"""Research: studies, pseudonymised exports and the pre/post outcome report."""
