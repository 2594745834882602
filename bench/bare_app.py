"""A bare FastAPI app (no database, no auth) for ``bench/api.py --baseline``: what this machine's
Python, uvicorn and FastAPI answer before any of the hub's work."""

from __future__ import annotations

from fastapi import FastAPI
from pydantic import BaseModel

app = FastAPI()


class NewTicket(BaseModel):
    subject: str
    description: str
    category: str
    priority: str


@app.post("/tickets/", status_code=201)
async def create(body: NewTicket) -> dict[str, object]:
    return {"id": 1, **body.model_dump()}
