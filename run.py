"""Development server: `python run.py` (or `flask --app run run`)."""
from app import create_app

app = create_app()

if __name__ == "__main__":
    app.run(host="127.0.0.1", port=int(__import__("os").environ.get("PORT", 8080)))
