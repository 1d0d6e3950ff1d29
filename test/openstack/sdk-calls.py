"""openstacksdk's accelerator proxy (conn.accelerator) driven through a whole life cycle. Prints one
JSON line: each step with what it returned, or the exception it raised.

Environment: OS_AUTH_URL (an admin of the cloud: admin/secret in project admin); DEVICE_PROFILE (a
name to create), DEVICE_RP_UUID, NODENAME."""
import json
import os
import uuid

import openstack
from openstack import exceptions

env = os.environ
conn = openstack.connect(auth_url=env['OS_AUTH_URL'], username='admin', password='secret', project_name='admin',
                         user_domain_name='Default', project_domain_name='Default', region_name='RegionOne')
acc = conn.accelerator
steps = []


def step(name, action):
    try:
        value = action()
        steps.append({'step': name, 'ok': True, 'value': value})
        return value
    except exceptions.SDKException as error:
        steps.append({'step': name, 'ok': False, 'error': type(error).__name__,
                      'status': getattr(error, 'status_code', None), 'message': str(error)})
        return None


def plain(resource):
    # The resource's fields, and its id (uuid for Cyborg's resources) whatever the attribute is called.
    return {**resource.to_dict(computed=False), 'id': resource.id} if resource is not None else None


devices = step('devices', lambda: [plain(device) for device in acc.devices()])
step('get_device', lambda: plain(acc.get_device(devices[0]['id'])))
deployables = step('deployables', lambda: [plain(deployable) for deployable in acc.deployables()])
step('get_deployable', lambda: plain(acc.get_deployable(deployables[0]['id'])))
profile = step('create_device_profile', lambda: plain(acc.create_device_profile(
    name=env['DEVICE_PROFILE'], groups=[{'resources:FPGA': '1', 'trait:CUSTOM_FAKE_DEVICE': 'required'}])))
step('device_profiles', lambda: [plain(dp)['name'] for dp in acc.device_profiles()])
step('get_device_profile', lambda: plain(acc.get_device_profile(profile['id'])))
arq = step('create_accelerator_request',
           lambda: plain(acc.create_accelerator_request(device_profile_name=env['DEVICE_PROFILE'])))
step('accelerator_requests', lambda: [plain(request)['id'] for request in acc.accelerator_requests()])
instance = str(uuid.uuid4())
step('update_accelerator_request (bind)', lambda: acc.update_accelerator_request(arq['id'], [
    {'op': 'add', 'path': '/hostname', 'value': env['NODENAME']},
    {'op': 'add', 'path': '/device_rp_uuid', 'value': env['DEVICE_RP_UUID']},
    {'op': 'add', 'path': '/instance_uuid', 'value': instance}]) is not None)
step('get_accelerator_request (bound)', lambda: plain(acc.get_accelerator_request(arq['id'])))
step('update_accelerator_request (unbind)', lambda: acc.update_accelerator_request(arq['id'], [
    {'op': 'remove', 'path': '/hostname'}, {'op': 'remove', 'path': '/device_rp_uuid'},
    {'op': 'remove', 'path': '/instance_uuid'}]) is not None)
step('get_accelerator_request (unbound)', lambda: plain(acc.get_accelerator_request(arq['id'])))
step('delete_accelerator_request', lambda: acc.delete_accelerator_request(arq['id'], ignore_missing=False))
step('get_accelerator_request (deleted)', lambda: plain(acc.get_accelerator_request(arq['id'])))
step('delete_accelerator_request (again)', lambda: acc.delete_accelerator_request(arq['id'], ignore_missing=False))
step('delete_device_profile', lambda: acc.delete_device_profile(profile['id'], ignore_missing=False))
step('get_device_profile (deleted)', lambda: plain(acc.get_device_profile(profile['id'])))
print(json.dumps({'instance': instance, 'steps': steps}, default=str))
