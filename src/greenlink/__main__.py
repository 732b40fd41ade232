from greenlink.cli.main import app

app(prog_name="greenlink")
