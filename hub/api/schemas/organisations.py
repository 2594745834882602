"""Organisations and people: request and response shapes."""

from __future__ import annotations

from pydantic import BaseModel, Field

from hub.api.schemas.common import Strict


class OrganisationCreate(Strict):
    name: str = Field(min_length=1, max_length=200)
    domains: list[str] = Field(default_factory=list, max_length=50)
    notes: str = Field(default="", max_length=5000)


class OrganisationUpdate(Strict):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    domains: list[str] | None = Field(default=None, max_length=50)
    notes: str | None = Field(default=None, max_length=5000)


class OrganisationPublic(BaseModel):
    id: int
    name: str
    notes: str
    domains: list[str]
    people: int = Field(description="how many people belong to it")
    joined: int | None = Field(
        default=None, description="on a write: how many existing people joined by its domains"
    )


class OrganisationPage(BaseModel):
    results: list[OrganisationPublic]
    next_cursor: str | None


class PersonBrief(BaseModel):
    id: int
    email: str
    full_name: str


class PersonBriefPage(BaseModel):
    results: list[PersonBrief]
    next_after: int | None = Field(description="pass as ``after`` for the next page")


class OrganisationRef(BaseModel):
    id: int
    name: str


class IdentityPublic(BaseModel):
    kind: str = Field(description="'email', or the plugin holding the account (slack, teams…)")
    value: str
    label: str = ""


class PersonPublic(BaseModel):
    id: int
    email: str
    full_name: str
    role: str
    active: bool
    organisation: OrganisationRef | None
    identities: list[IdentityPublic]
    tickets_by_channel: dict[str, int]


class PersonOrganisation(Strict):
    organisation_id: int | None = Field(ge=1, le=2**63 - 1, description="null: in none")


class PersonMerge(Strict):
    target_id: int = Field(ge=1, le=2_147_483_647, description="the person who remains")


class MergePreview(BaseModel):
    source_id: int
    target_id: int
    moves: dict[str, int] = Field(description="what moves to the target, counted per kind")


class MergeResult(BaseModel):
    source_id: int
    target_id: int
    moved: dict[str, int]
