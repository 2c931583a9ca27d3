"""Avtalsassistenten's staff UI (Streamlit). Start it with `avtal ui` (or `streamlit run ui/app.py`).

Pages: Fråga (chat), Sök (clause search), Dokument (browser), Ansvar (who is responsible for what),
Utvärdering (the latest evaluation report). Each page is its own file beside this one.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `streamlit run ui/app.py` from a checkout that is not installed
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from ui.common import inject_css  # noqa: E402

st.set_page_config(
    page_title="Avtalsassistenten",
    page_icon=":material/menu_book:",
    layout="centered",
    initial_sidebar_state="auto",  # collapsed on a phone, open on a desktop
    menu_items={
        "About": "Avtalsassistenten svarar på frågor om samverkansöverenskommelserna i Stockholms län."
    },
)
inject_css()

pages = [
    st.Page("page_chat.py", title="Fråga", icon=":material/chat:", url_path="fraga", default=True),
    st.Page("page_search.py", title="Sök i avsnitt", icon=":material/search:", url_path="sok"),
    st.Page("page_documents.py", title="Dokument", icon=":material/description:", url_path="dokument"),
    st.Page("page_responsibility.py", title="Ansvar", icon=":material/account_tree:", url_path="ansvar"),
    st.Page("page_evaluation.py", title="Utvärdering", icon=":material/monitoring:", url_path="utvardering"),
]
st.navigation(pages, position="sidebar").run()
