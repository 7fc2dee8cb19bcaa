"""scheduler: attempts, leases and progress of job runs

Each attempt at a job's tick is its own ``job_run`` row (unique per job, tick and
attempt) with an outcome, a heartbeat and a resume cursor; at most one claim per job
is open at a time (a partial unique index). ``scheduled_job`` keeps its last success
and last failure, and ``last_tick`` now means the tick of the last SUCCESSFUL run.

Existing rows: a finished run becomes ``succeeded`` or ``failed`` (it has an error);
an unfinished one — a claim left by a killed process — becomes ``abandoned``, so the
next tick retries it. A job whose ``last_tick`` was moved by a failed run (the old
rule) gets back the tick of its last success, so that failure is retried once.

Revision ID: c384e6441033
Revises: 679b0d574ae1
Create Date: 2026-11-30 03:33:38.931723

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c384e6441033'
down_revision = '679b0d574ae1'
branch_labels = None
depends_on = None

# The tables as this revision sees them (not the models, which move on).
job_run = sa.table(
    'job_run', sa.column('id', sa.Integer), sa.column('job_id', sa.Integer),
    sa.column('tick', sa.DateTime), sa.column('attempt', sa.Integer),
    sa.column('status', sa.String), sa.column('started_at', sa.DateTime),
    sa.column('heartbeat_at', sa.DateTime), sa.column('finished_at', sa.DateTime),
    sa.column('error', sa.Text), sa.column('manual', sa.Boolean))
scheduled_job = sa.table(
    'scheduled_job', sa.column('id', sa.Integer), sa.column('last_tick', sa.DateTime),
    sa.column('last_success_at', sa.DateTime), sa.column('last_failure_at', sa.DateTime))


def upgrade():
    with op.batch_alter_table('job_run', schema=None) as batch_op:
        batch_op.add_column(sa.Column('attempt', sa.Integer(), server_default='1', nullable=False))
        batch_op.add_column(sa.Column('status', sa.String(length=16), server_default='running', nullable=False))
        batch_op.add_column(sa.Column('heartbeat_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('cursor', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('pid', sa.Integer(), nullable=True))

    with op.batch_alter_table('scheduled_job', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_success_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('last_failure_at', sa.DateTime(), nullable=True))

    # Outcomes of the runs recorded so far; an open claim is a dead one (the old
    # scheduler is stopped for the upgrade), closed at its start.
    op.execute(job_run.update().where(job_run.c.finished_at.is_(None)).values(
        status='abandoned', finished_at=job_run.c.started_at))
    op.execute(job_run.update().where(job_run.c.status == 'running').values(
        status=sa.case((job_run.c.error.is_(None), 'succeeded'), else_='failed')))
    op.execute(job_run.update().values(heartbeat_at=job_run.c.finished_at))
    run = job_run.alias('r')
    for column, statuses in (('last_success_at', ['succeeded']),
                             ('last_failure_at', ['failed', 'abandoned'])):
        op.execute(scheduled_job.update().values({column: sa.select(
            sa.func.max(run.c.finished_at)).where(
                run.c.job_id == scheduled_job.c.id,
                run.c.status.in_(statuses)).scalar_subquery()}))
    # last_tick used to move on failure too: give it back the last successful tick.
    failed_last = sa.exists().where(run.c.job_id == scheduled_job.c.id,
                                    run.c.tick == scheduled_job.c.last_tick,
                                    run.c.manual.is_(False),
                                    run.c.status.in_(['failed', 'abandoned']))
    succeeded_last = sa.exists().where(run.c.job_id == scheduled_job.c.id,
                                       run.c.tick == scheduled_job.c.last_tick,
                                       run.c.status == 'succeeded')
    op.execute(scheduled_job.update().where(failed_last, ~succeeded_last).values(
        last_tick=sa.select(sa.func.max(run.c.tick)).where(
            run.c.job_id == scheduled_job.c.id, run.c.manual.is_(False),
            run.c.status == 'succeeded').scalar_subquery()))

    with op.batch_alter_table('job_run', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_job_run_tick'), type_='unique')
        batch_op.create_unique_constraint('uq_job_run_attempt', ['job_id', 'tick', 'attempt'])
        batch_op.create_index('uq_job_run_open_claim', ['job_id'], unique=True,
                              sqlite_where=sa.text('finished_at IS NULL'),
                              postgresql_where=sa.text('finished_at IS NULL'))


def downgrade():
    # One row per (job, tick) again: keep each tick's last attempt.
    later = job_run.alias('later')
    op.execute(job_run.delete().where(sa.exists().where(
        later.c.job_id == job_run.c.job_id, later.c.tick == job_run.c.tick,
        later.c.attempt > job_run.c.attempt)))
    with op.batch_alter_table('scheduled_job', schema=None) as batch_op:
        batch_op.drop_column('last_failure_at')
        batch_op.drop_column('last_success_at')

    with op.batch_alter_table('job_run', schema=None) as batch_op:
        batch_op.drop_index('uq_job_run_open_claim', sqlite_where=sa.text('finished_at IS NULL'),
                            postgresql_where=sa.text('finished_at IS NULL'))
        batch_op.drop_constraint('uq_job_run_attempt', type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_job_run_tick'), ['job_id', 'tick'])
        batch_op.drop_column('pid')
        batch_op.drop_column('cursor')
        batch_op.drop_column('heartbeat_at')
        batch_op.drop_column('status')
        batch_op.drop_column('attempt')
