"""Scheduled e-mail to members: follow-up wave invitations and reminders, nudges when a
journey stalls, and the one-click way to turn them off."""
