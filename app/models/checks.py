"""CHECK constraints, the database's last line behind the field rules
(``app.data.integrity``): a choice column holds one of its codes, an amount is a
finite number within NUMERIC(12, 2) (PostgreSQL would store NaN; NaN > every number
there, so ``<= max`` refuses it)."""
from sqlalchemy import CheckConstraint

MAX_MONEY = "9999999999.99"


def one_of(table: str, column: str, codes) -> CheckConstraint:
    values = ", ".join("'" + code.replace("'", "''") + "'" for code in codes)
    return CheckConstraint(f"{column} IN ({values})", name=f"ck_{table}_{column}")


def money(table: str, column: str, positive: bool = False) -> CheckConstraint:
    low = ">" if positive else ">="
    return CheckConstraint(f"{column} {low} 0 AND {column} <= {MAX_MONEY}",
                           name=f"ck_{table}_{column}_range")
