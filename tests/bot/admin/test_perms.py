from bot.admin.perms import is_bot_owner, is_guild_admin, may_act_on_job


def test_guild_admin_needs_manage_server_or_administrator_or_owner():
    kw = dict(user_id=5, owner_ids=[1])
    assert not is_guild_admin(manage_guild=False, administrator=False, **kw)
    assert is_guild_admin(manage_guild=True, administrator=False, **kw)
    assert is_guild_admin(manage_guild=False, administrator=True, **kw)
    assert is_guild_admin(user_id=1, manage_guild=False, administrator=False, owner_ids=[1])


def test_bot_owner_and_job_ownership():
    assert is_bot_owner(1, {1, 2}) and not is_bot_owner(3, {1, 2})
    assert may_act_on_job(user_id=3, job_user_id=3, admin=False)
    assert not may_act_on_job(user_id=4, job_user_id=3, admin=False)
    assert may_act_on_job(user_id=4, job_user_id=3, admin=True)
