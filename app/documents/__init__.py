"""The exam documents (PDF, French labels): notices, attendance sheets, attendance certificates.

Each renderer takes plain data (documents/model.py) and returns PDF bytes: no database, no
clock, so the same code serves one document on request and thousands in a batch.
"""
