"""Nova's calls to Cyborg, in the order and form of nova/accelerator/cyborg.py (_CyborgClient), through
a keystoneauth1 Session and Adapter with the user's token and Nova's service token
(nova/service_auth.py: ServiceTokenAuthWrapper). Prints one JSON line: every call with its outcome.

Environment: OS_AUTH_URL; USER_NAME, USER_PASSWORD, USER_PROJECT (the end user); NOVA_NAME,
NOVA_PASSWORD (Nova's service user, project "service"); DEVICE_PROFILE, DEVICE_RP_UUID, NODENAME."""
import json
import os
import uuid

from keystoneauth1 import adapter, service_token, session
from keystoneauth1.identity import v3

env = os.environ


def password(name, secret, project):
    return v3.Password(auth_url=env['OS_AUTH_URL'], username=name, password=secret, project_name=project,
                       user_domain_name='Default', project_domain_name='Default')


auth = service_token.ServiceTokenAuthWrapper(
    user_auth=password(env['USER_NAME'], env['USER_PASSWORD'], env['USER_PROJECT']),
    service_auth=password(env['NOVA_NAME'], env['NOVA_PASSWORD'], 'service'))
# nova.utils.get_ksa_adapter('accelerator', ksa_auth=auth)
client = adapter.Adapter(session=session.Session(auth=auth), service_type='accelerator', interface='public',
                         region_name='RegionOne')
ARQ_URL, DEVICE_PROFILE_URL = '/accelerator_requests', '/device_profiles'
calls = []


def call(name, method, url, **kwargs):
    response = getattr(client, method)(url, raise_exc=False, **kwargs)
    try:
        body = response.json()
    except ValueError:
        body = None
    calls.append({'call': name, 'request': '%s %s %s' % (method.upper(), url, kwargs.get('params') or ''),
                  'status': response.status_code, 'body': body})
    return body


dp = env['DEVICE_PROFILE']
instance = str(uuid.uuid4())
# get_device_profile_groups → _get_device_profile_list
groups = call('get_device_profile_groups', 'get', DEVICE_PROFILE_URL, params={'name': dp})
# create_arqs → _create_arqs
arqs = call('create_arqs', 'post', ARQ_URL, json={'device_profile_name': dp})['arqs']
# bind_arqs: one RFC 6902 patch per ARQ
bindings = {arq['uuid']: {'hostname': env['NODENAME'], 'device_rp_uuid': env['DEVICE_RP_UUID'],
                          'instance_uuid': instance} for arq in arqs}
call('bind_arqs', 'patch', ARQ_URL, json={
    arq_uuid: [{'path': '/' + field, 'op': 'add', 'value': value} for field, value in binding.items()]
    for arq_uuid, binding in bindings.items()})
# get_arqs_for_instance(only_resolved=True): the filter is Nova's own
listed = call('get_arqs_for_instance', 'get', ARQ_URL, params={'instance': instance})
resolved = [arq for arq in listed['arqs'] if arq['state'] in ['Bound', 'BindFailed', 'Deleting']]
# get_arq_by_uuid
call('get_arq_by_uuid', 'get', '/'.join([ARQ_URL, arqs[0]['uuid']]))
# delete_arqs_for_instance
call('delete_arqs_for_instance', 'delete', ARQ_URL, params={'instance': instance})
call('get_arqs_for_instance (after delete)', 'get', ARQ_URL, params={'instance': instance})
# delete_arqs_by_uuid: the clean-up of ARQs that never bound (not idempotent: the second call is a 404)
spare = call('create_arqs (spare)', 'post', ARQ_URL, json={'device_profile_name': dp})['arqs']
spare_uuids = ','.join(arq['uuid'] for arq in spare)
call('delete_arqs_by_uuid', 'delete', ARQ_URL, params={'arqs': spare_uuids})
call('delete_arqs_by_uuid (again)', 'delete', ARQ_URL, params={'arqs': spare_uuids})
print(json.dumps({'instance': instance, 'resolved': resolved, 'calls': calls}))
