from platform_tools.cli import app

app(prog_name="platform-tools")
