"""Business errors: each says what went wrong in words a person can act on."""


class TelosError(Exception):
    status_code = 400
    title = "That did not work"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(TelosError):
    status_code = 404
    title = "Not found"


class Forbidden(TelosError):
    status_code = 403
    title = "Not allowed"


class CsrfFailed(TelosError):
    status_code = 403
    title = "This form has expired"


class StaleEdit(TelosError):
    status_code = 409
    title = "Changed elsewhere"


class InvalidToken(TelosError):
    status_code = 400
    title = "This link does not work"
