from enum import StrEnum


class Role(StrEnum):
    member = "member"
    mentor = "mentor"
    manager = "manager"
    researcher = "researcher"
    admin = "admin"
