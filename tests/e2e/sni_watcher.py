"""A minimal org.kde.StatusNotifierWatcher for headless tray tests.

Registers on the session bus, waits for the app's tray item, prints its menu labels
as `menu <json>` (at once, and again after --delay) and, with --click LABEL, then
clicks that item over com.canonical.dbusmenu (several --click: one after another,
a second and a half apart; an item that is disabled is reported, not clicked).
Run with Debian's python3 (python3-gi). Exits after --timeout seconds.
"""
import argparse
import json
import time

from gi.repository import Gio, GLib

ap = argparse.ArgumentParser()
ap.add_argument("--click", action="append", default=[])
ap.add_argument("--timeout", type=float, default=30)
ap.add_argument("--delay", type=float, default=0, help="seconds to wait before clicking")
args = ap.parse_args()

XML = """<node><interface name="org.kde.StatusNotifierWatcher">
<method name="RegisterStatusNotifierItem"><arg type="s" direction="in"/></method>
<method name="RegisterStatusNotifierHost"><arg type="s" direction="in"/></method>
<property name="RegisteredStatusNotifierItems" type="as" access="read"/>
<property name="IsStatusNotifierHostRegistered" type="b" access="read"/>
<property name="ProtocolVersion" type="i" access="read"/>
<signal name="StatusNotifierItemRegistered"><arg type="s"/></signal>
<signal name="StatusNotifierItemUnregistered"><arg type="s"/></signal>
<signal name="StatusNotifierHostRegistered"/></interface></node>"""

items = []
state = {"conn": None}
loop = GLib.MainLoop()


def labels(node, out):
    mid, props, children = node
    if "label" in props:
        out.append((mid, props["label"], props.get("enabled", True)))
    for c in children:
        labels(c, out)
    return out


def menu_labels(service, menu):
    """The menu's items as (id, label), printed as `menu <json>`."""
    _, layout = state["conn"].call_sync(service, menu, "com.canonical.dbusmenu", "GetLayout",
                                        GLib.Variant("(iias)", (0, -1, [])), None, 0, -1, None).unpack()
    found = labels(layout, [])
    print("menu " + json.dumps([label.replace("_", "") for _, label, _ in found]), flush=True)
    print("disabled " + json.dumps([label.replace("_", "") for _, label, on in found if not on]),
          flush=True)
    return found


def inspect(service, path):
    conn = state["conn"]
    item = Gio.DBusProxy.new_sync(conn, 0, None, service, path, "org.kde.StatusNotifierItem", None)
    menu = item.get_cached_property("Menu").unpack()
    title = item.get_cached_property("Title")
    print("title " + json.dumps(title.unpack() if title else ""), flush=True)
    menu_labels(service, menu)
    GLib.timeout_add(int(args.delay * 1000), click, service, menu)
    return False


def click(service, menu, todo=None):
    # Read again: the app updates some labels after start (sync status, next meeting).
    found = menu_labels(service, menu)
    todo = list(args.click) if todo is None else todo
    if not todo:
        GLib.timeout_add(500, loop.quit)
        return False
    want = todo.pop(0)
    for mid, label, on in found:
        if label.replace("_", "") != want:
            continue
        if not on:
            print("disabled, not clicked " + json.dumps(want), flush=True)
            continue
        state["conn"].call_sync(service, menu, "com.canonical.dbusmenu", "Event",
                                GLib.Variant("(isvu)", (mid, "clicked", GLib.Variant("i", 0), int(time.time()))),
                                None, 0, -1, None)
        print("clicked " + json.dumps(want), flush=True)
    if todo:
        GLib.timeout_add(1500, click, service, menu, todo)
    else:
        GLib.timeout_add(500, loop.quit)
    return False


def on_call(conn, sender, path, iface, method, params, inv):
    if method == "RegisterStatusNotifierItem":
        arg = params.unpack()[0]
        service, obj = (sender, arg) if arg.startswith("/") else (arg, "/StatusNotifierItem")
        items.append(service + obj)
        conn.emit_signal(None, "/StatusNotifierWatcher", "org.kde.StatusNotifierWatcher",
                         "StatusNotifierItemRegistered", GLib.Variant("(s)", (service + obj,)))
        GLib.timeout_add(500, inspect, service, obj)
    inv.return_value(None)


def on_get(conn, sender, path, iface, prop):
    return {"RegisteredStatusNotifierItems": GLib.Variant("as", items),
            "IsStatusNotifierHostRegistered": GLib.Variant("b", True),
            "ProtocolVersion": GLib.Variant("i", 0)}[prop]


def on_bus(conn, name):
    state["conn"] = conn
    conn.register_object("/StatusNotifierWatcher", Gio.DBusNodeInfo.new_for_xml(XML).interfaces[0],
                         on_call, on_get, None)


Gio.bus_own_name(Gio.BusType.SESSION, "org.kde.StatusNotifierWatcher", 0, on_bus, None, None)
GLib.timeout_add(int(args.timeout * 1000), loop.quit)
print("watcher ready", flush=True)
loop.run()
