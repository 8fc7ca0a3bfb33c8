"""aeviz: the app's entry point and its first page.

Multipage mechanism: Streamlit's `pages/` folder, with the built-in navigation hidden and our own drawn by the shared
sidebar (`aeviz.ui.layout`). Unlike `st.navigation`, this gives every URL the same pages, sidebar and layout on a
fresh server, whichever page is opened first (a deep link to /train included).
"""

from aeviz.ui.home import home

if __name__ == "__main__":  # Streamlit runs this file as __main__; a spawned training child (aeviz.child) re-imports
    home()                  # it as __mp_main__ and must not draw the page in bare mode
