"""Matching: members' stated purposes to mentors and content, reviewed by managers."""
