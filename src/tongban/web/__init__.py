"""The web face: FastAPI app factory, JSON API routers and server-rendered pages."""
