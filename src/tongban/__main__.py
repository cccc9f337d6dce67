from tongban.cli import app

app(prog_name="tongban")
