"""The Streamlit audit dashboard. It reads the trail and evidence; it never edits recorded events.

The only write it performs is recording an approval, through the same function as ``rai approve``.
"""
