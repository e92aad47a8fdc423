"""The export writers behind `app.research.exports`, one module per kind of file."""
