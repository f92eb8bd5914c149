// The app's single door to the platform (Tauri) layer.
export * from "./bindings";
export * from "./ipc";
