//! Bounded reads of files that come from outside (profile files, the OIDC token file): the one
//! place such a file is opened.
//!
//! - The file is opened without blocking (`O_NONBLOCK` on unix), so a FIFO with no writer cannot
//!   hang the caller, then checked on the open handle (symlinks followed): only a regular file is
//!   read; a FIFO, a device (`/dev/zero`), a socket or a directory is an error.
//! - At most `limit` bytes are read: a larger file is an error, so a huge or endless file cannot
//!   grow memory without bound.

use std::fs::{File, OpenOptions};
use std::io::{self, Read};
use std::path::Path;

/// Largest profile file read (config.json, the INI credentials file): 1 MiB.
pub const PROFILE_FILE_LIMIT: u64 = 1024 * 1024;
/// Largest OIDC token file read: 64 KiB (a Kubernetes service-account token is about 1 KiB).
pub const TOKEN_FILE_LIMIT: u64 = 64 * 1024;

fn open_nonblocking(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // Opening a FIFO for reading blocks until a writer appears; with O_NONBLOCK it does not.
        // On a regular file the flag changes nothing.
        options.custom_flags(libc::O_NONBLOCK);
    }
    options.open(path)
}

fn kind_of(file_type: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if file_type.is_fifo() {
            return "a FIFO";
        }
        if file_type.is_char_device() || file_type.is_block_device() {
            return "a device";
        }
        if file_type.is_socket() {
            return "a socket";
        }
    }
    if file_type.is_dir() {
        "a directory"
    } else {
        "not a regular file"
    }
}

/// Reads the regular file at `path` (symlinks followed) as UTF-8 text of at most `limit` bytes.
/// Errors say what is wrong (`is a FIFO, not a regular file`, `is larger than the limit of N
/// bytes`, ...) but not the path: callers name it.
pub fn read_text(path: &Path, limit: u64) -> io::Result<String> {
    let file = open_nonblocking(path)?;
    // Checked on the open handle, not the path, so a file swapped after the check is not read.
    let file_type = file.metadata()?.file_type();
    if !file_type.is_file() {
        let kind = kind_of(&file_type);
        let what = if kind == "not a regular file" {
            kind.to_owned()
        } else {
            format!("is {kind}, not a regular file")
        };
        return Err(io::Error::new(io::ErrorKind::InvalidInput, what));
    }
    let mut bytes = Vec::new();
    // One byte more than the limit tells "exactly the limit" from "larger".
    file.take(limit.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("is larger than the limit of {limit} bytes"),
        ));
    }
    String::from_utf8(bytes)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "is not valid UTF-8 text"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::TempDir;

    #[test]
    fn reads_a_regular_file_up_to_the_limit() {
        let dir = TempDir::new("fsio-regular");
        let path = dir.path().join("f");
        std::fs::write(&path, "12345").unwrap();
        assert_eq!(read_text(&path, 5).unwrap(), "12345");
        let e = read_text(&path, 4).unwrap_err();
        assert_eq!(e.to_string(), "is larger than the limit of 4 bytes");
        assert_eq!(
            read_text(&dir.path().join("missing"), 5)
                .unwrap_err()
                .kind(),
            io::ErrorKind::NotFound
        );
        assert_eq!(
            read_text(dir.path(), 5).unwrap_err().to_string(),
            "is a directory, not a regular file"
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_or_a_device_is_refused_without_blocking() {
        let dir = TempDir::new("fsio-special");
        let fifo = dir.path().join("fifo");
        let status = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(status.success());
        // No writer: a blocking open would hang here for ever.
        assert_eq!(
            read_text(&fifo, 1024).unwrap_err().to_string(),
            "is a FIFO, not a regular file"
        );
        let link = dir.path().join("zero");
        std::os::unix::fs::symlink("/dev/zero", &link).unwrap();
        assert_eq!(
            read_text(&link, 1024).unwrap_err().to_string(),
            "is a device, not a regular file"
        );
        // A symlink to a regular file is followed.
        let target = dir.path().join("target");
        std::fs::write(&target, "token").unwrap();
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        assert_eq!(read_text(&link, 1024).unwrap(), "token");
    }
}
