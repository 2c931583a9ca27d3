"""Routes of the embeddable widget: /widget.js, /widget/demo and the FAQ it reads.

Included by ``api.app.create_app``.
"""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
