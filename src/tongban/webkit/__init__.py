"""The request kit: what every slice's routes and pages share — sign-in and session
dependencies (`deps`), response shapes (`schemas`), templating and the page language
(`templating`), CSRF (`csrf`) and the mapping of errors to problem+json (`problems`).

It knows no slice and no app: it imports `tongban.core` only (an import-linter contract
in `.importlinter` holds it to that). The app (`tongban.web`) installs it.
"""
